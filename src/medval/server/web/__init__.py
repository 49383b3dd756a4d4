"""The server's own pages: what a visitor, a committee or a hospital reads in a browser.

Served by the same app as the API, on the same permissions: a page calls the same
services as the API's routes (``server.services``) and shows what they return to the same
caller. Every asset (templates, the style sheet) ships in the package: no CDN. Imports
``core`` and ``server.services``; the API's routes import nothing from here.
"""
