"""Federated training on Flower, governed by medval.

medval decides who may join and what runs where; Flower trains. This room holds the plan's
privacy arithmetic, the experiment's certificate authority, the training cube (a Flower
app and its FAB), the aggregator (Flower's SuperLink and the ServerApp) and the site
(Flower's SuperNode and the ClientApp in medval's sandbox). It may import ``core``,
``trust`` and ``runner``; never ``server``, ``client`` or ``cli``.
"""
