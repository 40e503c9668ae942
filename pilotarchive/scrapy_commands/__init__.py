"""Scrapy commands that replace Scrapy's own for this project (``COMMANDS_MODULE``)."""
