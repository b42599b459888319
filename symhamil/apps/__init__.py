"""Applications built on the library the way a user would build them.

``learn`` (``symhamil learn`` on a CSV file), ``learn_pairs`` (``symhamil learn``
on a molecular-dynamics file) and ``paper`` (``symhamil reproduce``). The
library never imports an application.
"""
