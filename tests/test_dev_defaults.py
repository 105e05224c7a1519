"""Development defaults that two components must share to work together on the local stack."""
from proxy.routing.handover import DEV_INTERNAL_TOKEN as PROXY_INTERNAL_TOKEN
from services.common.settings import DEV_INTERNAL_TOKEN as SERVICES_INTERNAL_TOKEN


def test_the_proxy_and_the_services_share_the_internal_token_of_the_local_stack():
    assert PROXY_INTERNAL_TOKEN == SERVICES_INTERNAL_TOKEN
