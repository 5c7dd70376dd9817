"""Transitional re-export: tour-plan outputs live in ``optimizer.tours.report`` (file writing in
``api.services.tours.write_outputs``)."""

from optimizer.tours.report import *  # noqa: F401,F403
