"""Hooks of the fuzzing run (tests/faults/schemathesis.toml names this module).

One workaround for schemathesis 4.32.5, not for the API: its stateful phase takes path
parameters from links inferred over lists (`results/*/case`), and a wildcard match keeps the
null of an audit entry that names no case, so `PATCH /api/v1/cases/{case_id}/` goes out as
`PATCH /api/v1/cases/` (the list, 405) and `POST .../cases/{case_id}/attachments/` as
`POST /api/v1/cases/attachments/`. Such a request addresses another operation than the one
under test; schemathesis already skips a link value that is null on its own (not in a
wildcard match). Dropping these cases drops nothing the server answers.
"""

import schemathesis


@schemathesis.hook
def filter_case(context, case):
    return all(value is not None for value in (case.path_parameters or {}).values())
