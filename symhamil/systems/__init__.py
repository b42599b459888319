"""Systems declared in SymPy and what is computed from a declaration.

``symbols`` (the naming rules), ``system`` (:class:`~symhamil.System`, separable),
``pairs`` (:class:`~symhamil.PairSystem`, one phi(r) for many bodies),
``potentials`` (anything that is "a potential", as values and gradients on
arrays), ``catalog`` (ready-made systems), ``integrators`` (the one RK4),
``simulate`` and ``reduce``.
"""
