"""In-process WAF: ASGI and WSGI middleware that score requests and apply the rules.

* :class:`~bastion.middleware.asgi.BastionMiddleware` for Starlette, FastAPI and other
  ASGI applications;
* :class:`~bastion.middleware.wsgi.BastionWSGIMiddleware` for Flask, Django and other
  WSGI applications.

Both put a :class:`Verdict` (the WAF result and the rules' decision) where the
application can read it.
"""

from bastion.middleware.asgi import BastionMiddleware
from bastion.middleware.common import Verdict
from bastion.middleware.wsgi import BastionWSGIMiddleware

__all__ = ["BastionMiddleware", "BastionWSGIMiddleware", "Verdict"]
