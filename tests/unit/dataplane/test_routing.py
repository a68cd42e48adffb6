"""Rule matching, weighted choice, target picking and health transitions of the data plane."""

from __future__ import annotations

from collections import Counter

import pytest

from dockyard.dataplane.balancer import GroupRuntime, WeightedChoice
from dockyard.dataplane.config import (
    ConditionConfig,
    HealthCheckConfig,
    Redirect,
    TargetConfig,
    TargetGroupConfig,
)
from dockyard.dataplane.health import Outcome, step
from dockyard.dataplane.matching import RequestView, compile_rule
from dockyard.dataplane.routes import redirect_location

CHECK = HealthCheckConfig(True, "HTTP", None, "/", 5, 2, 3, 2)


def view(path: str = "/", method: str = "GET", host: str = "example.com", query: str = "",
         headers: dict[str, str] | None = None, ip: str = "10.0.0.5") -> RequestView:  # fmt: skip
    return RequestView(method, path, query, host, headers or {}, ip)


@pytest.mark.parametrize(
    ("condition", "request_view", "expected"),
    [
        (ConditionConfig("path-pattern", ("/api/*",)), view("/api/users"), True),
        (ConditionConfig("path-pattern", ("/api/*",)), view("/API/users"), False),
        (ConditionConfig("path-pattern", ("/img/?.png",)), view("/img/a.png"), True),
        (ConditionConfig("path-pattern", ("/a", "/b")), view("/b"), True),
        (ConditionConfig("host-header", ("*.example.com",)), view(host="api.example.com"), True),
        (ConditionConfig("host-header", ("*.EXAMPLE.com",)), view(host="api.example.com"), True),
        (ConditionConfig("host-header", ("*.example.com",)), view(host="example.org"), False),
        (ConditionConfig("http-header", ("blue*",), "X-Team"), view(headers={"x-team": "Blue"}),
         True),
        (ConditionConfig("http-header", ("blue*",), "X-Team"), view(), False),
        (ConditionConfig("http-request-method", ("POST",)), view(method="POST"), True),
        (ConditionConfig("http-request-method", ("POST",)), view(method="post"), False),
        (ConditionConfig("query-string", ("on",), query=(("debug", "on"),)),
         view(query="debug=ON&x=1"), True),
        (ConditionConfig("query-string", ("v*",), query=((None, "v*"),)), view(query="a=v2"),
         True),
        (ConditionConfig("query-string", ("on",), query=(("debug", "on"),)), view(query="x=on"),
         False),
        (ConditionConfig("source-ip", ("10.0.0.0/8",)), view(ip="10.1.2.3"), True),
        (ConditionConfig("source-ip", ("10.0.0.0/8",)), view(ip="192.168.1.1"), False),
    ],
)  # fmt: skip
def test_conditions_match_as_alb_does(
    condition: ConditionConfig, request_view: RequestView, expected: bool
) -> None:
    predicate = compile_rule([condition])
    assert predicate is not None
    assert predicate(request_view) is expected


def test_all_conditions_of_a_rule_must_match() -> None:
    predicate = compile_rule([
        ConditionConfig("path-pattern", ("/api/*",)),
        ConditionConfig("http-request-method", ("GET",)),
    ])  # fmt: skip
    assert predicate is not None
    assert predicate(view("/api/x"))
    assert not predicate(view("/api/x", method="DELETE"))
    assert compile_rule([]) is None  # the default rule


def test_weighted_choice_gives_each_group_exactly_its_share() -> None:
    choice = WeightedChoice([("blue", 80), ("green", 20), ("off", 0)])
    counts = Counter(choice.order()[0] for _ in range(2000))
    assert counts == {"blue": 1600, "green": 400}
    assert choice.order()[1:] in (["green"], ["blue"])


def group(*targets: TargetConfig, algorithm: str = "round_robin") -> GroupRuntime:
    return GroupRuntime(TargetGroupConfig("tg", "targetgroup/x/1", "HTTP", CHECK, targets,
                                          algorithm=algorithm))  # fmt: skip


def test_round_robin_skips_targets_that_are_not_routable() -> None:
    g = group(
        TargetConfig("a:1", "127.0.0.1", 1, "healthy"),
        TargetConfig("b:1", "127.0.0.1", 2, "unhealthy"),
        TargetConfig("c:1", "127.0.0.1", 3, "draining"),
        TargetConfig("d:1", "127.0.0.1", 4, "healthy"),
        TargetConfig("e:1", "127.0.0.1", 5, "initial"),
    )
    picks = [g.pick(0.0) for _ in range(4)]
    assert [t.key for t in picks if t] == ["a:1", "d:1", "a:1", "d:1"]


def test_all_unhealthy_fails_open_but_initial_or_draining_or_none_answer_nothing() -> None:
    sick = group(
        TargetConfig("a:1", "h", 1, "unhealthy"),
        TargetConfig("b:1", "h", 2, "unhealthy"),
        TargetConfig("c:1", "h", 3, "draining"),
    )
    assert sick.failing_open
    assert sorted(sick.pick(0.0).key for _ in range(4)) == ["a:1", "a:1", "b:1", "b:1"]  # type: ignore[union-attr]
    assert sick.sticky("b:1") is not None and sick.sticky("c:1") is None
    for targets in (
        (),
        (TargetConfig("a:1", "h", 1, "initial"),),
        (TargetConfig("a:1", "h", 1, "unhealthy"), TargetConfig("b:1", "h", 2, "initial")),
        (TargetConfig("a:1", "h", 1, "draining"),),
    ):
        g = group(*targets)
        assert g.pick(0.0) is None and not g.failing_open
    g = group(TargetConfig("a:1", "h", 1, "unhealthy"), TargetConfig("b:1", "h", 2, "healthy"))
    assert [g.pick(0.0).key for _ in range(2)] == ["b:1", "b:1"]  # type: ignore[union-attr]


def test_least_outstanding_requests_prefers_the_idle_target() -> None:
    g = group(
        TargetConfig("a:1", "h", 1, "healthy"), TargetConfig("b:1", "h", 2, "healthy"),
        algorithm="least_outstanding_requests",
    )  # fmt: skip
    g.acquire("a:1")
    g.acquire("a:1")
    assert [g.pick(0.0).key for _ in range(3)] == ["b:1"] * 3  # type: ignore[union-attr]
    g.release("a:1")
    g.release("a:1")
    assert g.outstanding("a:1") == 0


def test_health_transitions_follow_the_thresholds() -> None:
    ok, bad = Outcome(True), Outcome(False, "Target.Timeout", "Request timed out")
    assert step("initial", None, None, ok, 1, 0, CHECK) == ("healthy", None, None)
    assert step("initial", None, None, bad, 0, 1, CHECK)[1] == "Elb.InitialHealthChecking"
    assert step("initial", None, None, bad, 0, 2, CHECK)[:2] == ("unhealthy", "Target.Timeout")
    assert step("healthy", None, None, bad, 0, 1, CHECK) == ("healthy", None, None)
    assert step("healthy", None, None, bad, 0, 2, CHECK)[0] == "unhealthy"
    assert step("unhealthy", "Target.Timeout", "x", ok, 2, 0, CHECK)[0] == "unhealthy"
    assert step("unhealthy", "Target.Timeout", "x", ok, 3, 0, CHECK) == ("healthy", None, None)


def test_redirect_fills_placeholders_and_drops_default_ports() -> None:
    r = Redirect(301, protocol="HTTPS", port="443")
    assert redirect_location(r, "http", "a.com", 80, "/x/y", "q=1") == "https://a.com/x/y?q=1"
    r = Redirect(302, host="b.com", path="/new/#{path}", query="")
    assert redirect_location(r, "http", "a.com", 8080, "/old", "q=1") == "http://b.com:8080/new/old"


def test_a_forward_whose_only_weight_is_zero_chooses_no_group() -> None:
    assert WeightedChoice([("a", 0)]).order() == []
