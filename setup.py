"""Only for ``scrapyd-deploy``, which builds its egg with ``setup.py bdist_egg``.

Everything (packages, schemas as package data, the ``scrapy`` settings entry point scrapyd
reads) is declared in pyproject.toml; without this file scrapyd-deploy would write its own
setup.py, whose egg lacks the schemas.
"""

from setuptools import setup

setup()
