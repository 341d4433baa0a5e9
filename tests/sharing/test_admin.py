"""The admin shows share metadata only, read-only."""



def test_admin_lists_share_metadata_without_content(administrator, us_case, offer, web):
    share_request = offer(us_case, "MX")
    client = web(administrator)
    listing = client.get("/admin/sharing/sharerequest/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert us_case.reference in page
    assert us_case.title not in page and share_request.justification not in page
    detail = client.get(f"/admin/sharing/sharerequest/{share_request.pk}/change/")
    assert detail.status_code == 200
    assert share_request.justification not in detail.content.decode()
    assert client.post(f"/admin/sharing/sharerequest/{share_request.pk}/delete/").status_code \
        == 403

