"""Names no project code calls that are kept on purpose (vulture reads this file as their use).

Each entry says who uses it. A name that loses its reason is deleted from the code and from here;
`tests/test_dead_code.py` fails on anything unused that is not listed.
"""
# ruff: noqa: B018, F821
# mypy: ignore-errors

# Called by tests and by vendors' own scripts through the public clients (the admin and driver APIs).
_.clear_faults  # clients/admin.py: tests reset the portal's injected faults
SystemUnderTest  # clients/driver.py: the in-process driver contract the guide documents
submission_status  # cutover/flows/submit.py: a citizen's status look-up, tests of forwarding
stop_group  # cutover/supervisor.py: benchmarks and tests stop what they started
_.sample_units  # refdata/units.py: the registry's sampling, tests
industry_and_trade_code  # refdata/agency_codes.py: the ministry's code, tests of the code table
_.province_part  # protocols/agency_code.py: parts of an agency code, tests
_.is_province_level
_.is_central
_.categories  # protocols/signed_result/verify.py: a verification's findings by kind, tests
_.certificate  # mocks/ca/models.py: the CA's public model, tests
_.private_key
_.root_certificate
_.chain_for
_.is_revoked
_.trim  # mocks/core/journal.py: bounded journals, tests
CAUGHT_BY  # cutover/certification/matrix.py: the meta-test and the mutation benchmark read it
MALFORMED_MODES  # mocks/national_portal/sso/hostile.py: the hostile modes whose token is no JWT, tests of the mock

# Read by a framework or a library by name.
keepalive  # cutover/gunicorn_conf.py: gunicorn settings
graceful_timeout
control_socket_disable
on_starting
wsgi_app  # cutover/wsgi.py: the WSGI entry gunicorn loads
_flush_all  # mocks/core/journal.py: registered with atexit
step_func  # cutover/pytest_plugin.py: hook arguments named by pytest-bdd
step_func_args
exitstatus
_.longrepr
pytestmark  # features/test_certification.py: pytest reads it
use_common_options  # loadtests: Locust's shape and user attributes
abstract
network_timeout
connection_timeout
_.wait_time
weight
wait_time
_.ensure_ascii  # mocks/core/app.py: Flask's JSON provider settings
_.sort_keys
_.trust_env  # mocks/core/transport.py: requests' session and response attributes
_._content
_.encoding
_.ma_giao_dich  # mocks/payment_gw/receipt.py: a PDF info entry (/MaGiaoDich)
_.layout_features  # protocols/signed_result/render.py: fontTools subsetter options
_.hinting
_.name_IDs
_.notdef_outline
_.recalcBBoxes
_.system_time  # protocols/signed_result/sign.py: pyHanko's validation context
confidence  # refdata: fields of records read by name
commune_code
ten
_.adapter_tenant  # mocks/national_portal/views.py: set on flask.g, read with g.get("adapter_tenant")
_.journal_request_json  # mocks/core/bodies.py: set on flask.g, read with g.get("journal_request_json")
_.missing_glyphs  # protocols/signed_result/render.py: fpdf2's per-document font state, reset on a copy
_.biggest_size_pt
_._hbfont
