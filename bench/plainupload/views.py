from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from bench.plainupload.models import PlainUpload


@csrf_exempt
def plain_upload(request):
    """Django's default handlers spool the file to a temporary file; the FileField moves it."""
    upload = PlainUpload.objects.create(file=request.FILES["file"])
    return JsonResponse({"id": upload.pk, "size": upload.file.size}, status=201)
