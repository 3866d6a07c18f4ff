"""Migrations over the whole schema: the Piccolo app ``schema`` runs after every other app's
migrations (it depends on all of them), so each of its migrations finds every table made."""
