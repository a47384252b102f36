"""The operator's web dashboard at `/` and the offline API docs at `/docs` and `/redoc`."""

from toolfoundry.api.dashboard.routes import install_dashboard

__all__ = ["install_dashboard"]
