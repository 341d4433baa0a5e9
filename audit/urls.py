"""The auditor API under /api/v1/audit/."""

from django.urls import path

from audit import api, witness_api

urlpatterns = [
    path("entries/", api.EntryList.as_view(), name="audit-entries"),
    path("export/", api.Export.as_view(), name="audit-export"),
    path("verify/", api.Verify.as_view(), name="audit-verify"),
    path("checkpoints/", api.CheckpointList.as_view(), name="audit-checkpoints"),
    # The witnessed log (audit/witness_api.py)
    path("notes/", witness_api.NoteList.as_view(), name="audit-notes"),
    path("proofs/inclusion/", witness_api.InclusionProof.as_view(), name="audit-inclusion"),
    path("proofs/consistency/", witness_api.ConsistencyProof.as_view(),
         name="audit-consistency"),
    path("proof-bundle/", witness_api.ProofBundle.as_view(), name="audit-proof-bundle"),
]
