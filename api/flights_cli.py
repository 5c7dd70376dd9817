"""``lhasa-ops flights ...``: low-altitude sightseeing flights (issue 8).

``flights design`` builds the product menu (routes over viewpoints, :mod:`optimizer.flight_routes`);
``flights schedule`` (registered from :mod:`api.flight_schedule_cli`) assigns bookings to departures.
"""

from __future__ import annotations

import typer

flights_app = typer.Typer(help="Low-altitude sightseeing flights: product menu (route design) and daily schedule.",
                          no_args_is_help=True)
