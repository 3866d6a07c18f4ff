"""Routes of tasks (cadences), the funnel, referrals and after-sales return visits."""

from litestar import Controller

ROUTES: list[type[Controller]] = []
