"""The web console (Flask): a facilitator's view and a read-only participants' view.

- Everything is served from the package: templates, one stylesheet, charts drawn on the
  server as SVG. No JavaScript, no asset from the internet: the console works offline.
- The participants' view (``/participants``) shows the situation, the news of the
  injects, the decisions taken, the realised path and the look-aheads. It is built from
  data that never holds hidden facts or evaluator notes (the server leaves them out; it
  is not a matter of CSS), and it accepts only GET.
- The facilitator's view (``/facilitator``) holds every control. On the loopback address
  it is open; on any other address it requires the facilitator token, generated at start
  and printed once, compared in constant time. Every form carries a per-session CSRF
  token, and requests must name the console's own host (no DNS rebinding).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, flash, redirect, render_template, request, url_for
from werkzeug.serving import make_server

from ...errors import ScenarioError
from ..charts import fan_chart
from ..journal import JournalError
from ..session import Exercise

__all__ = ["ConsoleConfig", "create_app", "is_loopback", "serve"]

COOKIE = "disruptsim_facilitator"


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (or ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class ConsoleConfig:
    """How the console runs.

    Attributes
    ----------
    token : str or None
        The facilitator token (None: open facilitator's view, loopback only).
    report_dir : Path
        Where downloaded after-action reports are written.
    report_runs : int
        Futures per decision in the report's counterfactuals.
    allowed_hosts : set of str
        Host header values accepted (empty: any).
    """

    token: str | None = None
    report_dir: Path = Path(".")
    report_runs: int = 1000
    allowed_hosts: set[str] = field(default_factory=set)


def create_app(exercise: Exercise, config: ConsoleConfig | None = None) -> Flask:
    """The Flask application of a session's console.

    Parameters
    ----------
    exercise : Exercise
        The session (its journal records everything done in the console).
    config : ConsoleConfig, optional
    """
    config = config or ConsoleConfig()
    app = Flask(__name__)
    app.secret_key = secrets.token_bytes(32)
    app.config.update(
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_HTTPONLY=True,
        MAX_CONTENT_LENGTH=256 * 1024,
    )
    csrf = secrets.token_urlsafe(24)
    lock = threading.Lock()
    state = {"version": 0}

    def changed() -> None:
        state["version"] += 1

    @app.before_request
    def _guard():
        if config.allowed_hosts and request.host not in config.allowed_hosts:
            abort(400, "unexpected Host header")
        if request.path.startswith("/facilitator"):
            if config.token is not None:
                given = (
                    request.args.get("token")
                    or request.cookies.get(COOKIE)
                    or request.headers.get("X-Facilitator-Token")
                    or ""
                )
                if not hmac.compare_digest(given.encode(), config.token.encode()):
                    abort(
                        403,
                        "the facilitator's view needs the facilitator token (printed when the console started)",
                    )
                if request.args.get("token"):  # move the token from the URL into a cookie
                    response = redirect(request.path)
                    response.set_cookie(COOKIE, config.token, httponly=True, samesite="Strict")
                    return response
            if request.method == "POST" and not hmac.compare_digest(
                request.form.get("csrf", "").encode(), csrf.encode()
            ):
                abort(403, "stale or missing form token: reload the facilitator's page")
        elif request.method not in ("GET", "HEAD"):
            abort(405)
        return None

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; form-action 'self'; frame-ancestors 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/")
    def index():
        return render_template("index.html", ex=exercise, token_required=config.token is not None)

    # -- participants' view (read only, no hidden facts) ---------------------------------

    @app.get("/participants")
    def participants():
        with lock:
            view = public_view(exercise)
        return render_template("participants.html", view=view, version=state["version"])

    charts: dict[tuple[str, int], bytes] = {}  # drawn once per state of the session

    def chart(kind: str) -> bytes:
        key = (kind, state["version"])
        if key not in charts:
            for stale in [k for k in charts if k[1] != key[1]]:
                del charts[stale]
            charts[key] = (
                exercise.realised_chart()
                if kind == "realised"
                else fan_chart(exercise.lookaheads[-1])
            )
        return charts[key]

    @app.get("/participants/realised.svg")
    @app.get("/facilitator/realised.svg")
    def realised_svg():
        with lock:
            svg = chart("realised")
        return Response(svg, mimetype="image/svg+xml")

    @app.get("/participants/fan.svg")
    @app.get("/facilitator/fan.svg")
    def fan_svg():
        with lock:
            if not exercise.lookaheads:
                abort(404)
            svg = chart("fan")
        return Response(svg, mimetype="image/svg+xml")

    # -- facilitator's view ---------------------------------------------------------------

    @app.get("/facilitator")
    def facilitator():
        with lock:
            view = public_view(exercise)
            view.update(facilitator_view(exercise))
        return render_template("facilitator.html", view=view, csrf=csrf, version=state["version"])

    def act(action, success: str):
        try:
            with lock:
                action()
                changed()
            flash(success, "info")
        except (KeyError, ValueError, RuntimeError, ScenarioError, JournalError) as error:
            message = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
            flash(str(message), "error")
        return redirect(url_for("facilitator"))

    @app.post("/facilitator/advance")
    def advance():
        return act(lambda: exercise.advance(_int(request.form.get("turns", "1"))), "advanced")

    @app.post("/facilitator/inject")
    def inject():
        return act(lambda: exercise.inject(request.form.get("id", "")), "inject sent")

    @app.post("/facilitator/decide")
    def decide():
        return act(
            lambda: exercise.decide(
                request.form.get("id", ""), note=request.form.get("note", "")[:5000]
            ),
            "decision recorded",
        )

    @app.post("/facilitator/lookahead")
    def lookahead():
        options = request.form.getlist("option")
        runs = _int(request.form.get("runs", str(exercise.spec.file.lookahead_runs)))
        return act(lambda: exercise.lookahead(options, runs=runs), "look-ahead done")

    @app.post("/facilitator/note")
    def note():
        return act(
            lambda: exercise.note(
                request.form.get("text", ""), author=request.form.get("author", "")
            ),
            "note saved",
        )

    @app.post("/facilitator/finish")
    def finish():
        return act(exercise.finish, "session finished")

    @app.get("/facilitator/report.html")
    def report():
        with lock:
            path = exercise.report(
                config.report_dir / f"{exercise.spec.file.name}-after-action-report.html",
                runs=config.report_runs,
            )
        return Response(
            path.read_bytes(),
            mimetype="text/html",
            headers={"Content-Disposition": f'attachment; filename="{path.name}"'},
        )

    return app


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"expected a whole number, found {text[:40]!r}") from None


def _date(exercise: Exercise, day: int) -> str:
    import datetime as dt

    start = exercise.spec.file.start_date
    return "" if start is None else str(dt.date.fromisoformat(start) + dt.timedelta(days=day))


def public_view(exercise: Exercise) -> dict[str, Any]:
    """What participants may see. Built field by field: hidden facts, evaluator notes and
    expected actions are never copied here."""
    f = exercise.spec.file
    outcome = exercise.outcome()
    la = exercise.lookaheads[-1] if exercise.lookaheads else None
    return {
        "title": f.title or f.name,
        "day": exercise.day,
        "date": _date(exercise, exercise.day),
        "turn": min(exercise.turn, f.turns),
        "turns": f.turns,
        "over": exercise.over,
        "finished": exercise.finished,
        "objectives": list(f.objectives),
        "news": [
            {
                "title": i["title"],
                "narrative": i["narrative"],
                "day": i["day"],
                "date": _date(exercise, i["day"]),
            }
            for i in reversed(exercise.delivered)
        ],
        "decisions": [
            {"title": d["title"], "day": d["day"], "date": _date(exercise, d["day"])}
            for d in exercise.decisions
        ],
        "stock_days": exercise.path.stock_days(),
        "outcome": outcome,
        "lookahead": None if la is None else la.as_dict(),
        "has_fan": la is not None,
    }


def facilitator_view(exercise: Exercise) -> dict[str, Any]:
    """What only the facilitator sees: the MSEL with hidden facts and evaluator notes."""
    delivered = {i["id"]: i for i in exercise.delivered}
    msel = []
    for k, inject in enumerate(exercise.spec.file.injects):
        d = delivered.get(inject.id)
        msel.append(
            {
                "id": inject.id,
                "title": inject.title,
                "due": exercise.spec.inject_day(k),
                "delivered": None if d is None else d["day"],
                "narrative": inject.narrative,
                "hidden": inject.hidden,
                "expected_action": inject.expected_action,
                "evaluator_notes": inject.evaluator_notes,
            }
        )
    adhoc = [i for i in exercise.delivered if i["id"] not in {m["id"] for m in msel}]
    return {
        "msel": msel,
        "adhoc": adhoc,
        "menu": list(exercise.spec.file.decisions),
        "taken": exercise.decisions,
        "notes": exercise.notes,
        "runs": exercise.spec.file.lookahead_runs,
        "journal": str(exercise.journal.path) if exercise.journal.path else "(in memory)",
        "truth": exercise.situation(truth=True).to_dict(),
    }


def serve(
    exercise: Exercise,
    host: str = "127.0.0.1",
    port: int = 8750,
    *,
    report_dir: Path | None = None,
    report_runs: int = 1000,
    announce=print,
    ready: threading.Event | None = None,
) -> None:
    """Run the console until interrupted (Ctrl-C).

    On a non-loopback ``host`` a facilitator token is generated and announced once.
    """
    token = None if is_loopback(host) else secrets.token_urlsafe(24)
    config = ConsoleConfig(token=token, report_dir=report_dir or Path("."), report_runs=report_runs)
    app = create_app(exercise, config)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server(host, port, app, threaded=True)
    actual = server.server_port
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{actual}"
    if is_loopback(host):
        config.allowed_hosts = {f"{shown}:{actual}", f"localhost:{actual}", f"127.0.0.1:{actual}"}
        announce(f"Facilitator:  {base}/facilitator")
    else:
        announce(f"Facilitator:  {base}/facilitator?token={token}")
        announce("  (the token is shown only now; anyone with it controls the session)")
    announce(f"Participants: {base}/participants")
    announce(f"Journal:      {exercise.journal.path or '(in memory)'}")
    announce("Press Ctrl-C to stop.")
    if ready is not None:
        ready.set()
    try:
        server.serve_forever()
    finally:
        server.server_close()
