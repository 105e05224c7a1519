"""The response comparison engine, usable without the proxy (the parity suite imports it):

    from proxy.compare import ResponseSnapshot, compare_responses, load_profiles_file
    profiles = load_profiles_file("proxy/routes.yaml")
    comparison = compare_responses(legacy, candidate, profiles["catalog"])
    assert comparison.matched, comparison.to_dict()
"""
from proxy.compare.engine import (
    ABSENT,
    Comparison,
    Difference,
    ResponseSnapshot,
    candidate_failed,
    compare_bodies,
    compare_documents,
    compare_responses,
)
from proxy.compare.noise import MATCH, MISMATCH, NOISE, NoiseModel, NoiseSettings
from proxy.compare.profiles import CompareProfile, load_profiles, load_profiles_file
from proxy.compare.report import ShadowReport, render_html, render_text, route_figures

__all__ = [
    "ABSENT", "Comparison", "Difference", "ResponseSnapshot", "candidate_failed", "compare_bodies",
    "compare_documents", "compare_responses", "MATCH", "MISMATCH", "NOISE", "NoiseModel", "NoiseSettings",
    "CompareProfile", "load_profiles", "load_profiles_file", "ShadowReport", "render_html", "render_text",
    "route_figures",
]
