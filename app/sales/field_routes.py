"""Routes of visit plans, daily reports, market incidents, weekly territory reports and targets."""

from litestar import Controller

ROUTES: list[type[Controller]] = []
