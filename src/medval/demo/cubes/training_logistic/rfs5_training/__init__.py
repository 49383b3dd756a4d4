"""The demo's training cube: a Flower app that trains a logistic regression for 5-year
recurrence-free survival across hospitals (ServerApp in ``server_app``, ClientApp in
``client_app``). Imports Flower, numpy and pandas only: it runs inside medval's sandbox."""
