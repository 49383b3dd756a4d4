"""Scratch scan (issue 13, edges): coverage of the counts model's profile interval widened by
factors w, for 3 and 5 sites of 30 cases; one simulation per scenario evaluates every w.
    PYTHONPATH=src python bench/pooling_widening_scan.py REPLICATES 3,5
Not yet tidy: ruff-exempt scratch kept for the lead; see the branch report."""
# ruff: noqa
import math, sys, time, json
import numpy as np
from medval.stats import proportions as P
from scipy.stats import chi2, t
CASES=30
def run(k, p, i2, reps, seed, ws):
    rng=np.random.default_rng(seed)
    mu=math.log(p/(1-p)); tau2=i2/(1-i2)/(CASES*p*(1-p))
    cov={w:0 for w in ws}; edge=0
    for _ in range(reps):
        lg=rng.normal(mu, math.sqrt(tau2), k); ev=rng.binomial(CASES, 1/(1+np.exp(-lg)))
        ev=[int(e) for e in ev]; tr=[CASES]*k
        data=P._Counts(ev,tr)
        drop=float(chi2.ppf(0.95,1))/2
        te=sum(ev)
        if te in (0, CASES*k):
            edge+=1
            sign=-1.0 if te==0 else 1.0
            for w in ws:
                b=P._crossing(data, data.constant-drop*w*w, sign*P.MU_BOUND, -sign*P.MU_BOUND)
                cov[w]+= (mu<=b) if sign<0 else (mu>=b)
            continue
        f=P.minimize(lambda q:-data.log_likelihood(q[0],q[1]), x0=np.array([math.log((te+.5)/(CASES*k-te+.5)),.5]),method="Powell",bounds=[(-30,30),(0,4)],options={"xtol":1e-8,"ftol":1e-13})
        m=float(f.x[0]); tgt=data.profile(m)-drop
        lo=P._crossing(data,tgt,m,-30); hi=P._crossing(data,tgt,m,30)
        for w in ws:
            cov[w]+= (m-w*(m-lo)<=mu<=m+w*(hi-m))
    return {w:cov[w]/reps for w in ws}, edge/reps
ws=[1.0,1.05,1.1,1.15,1.2,1.25,1.3,1.4,1.5,1.6]
reps=int(sys.argv[1]); ks=[int(x) for x in sys.argv[2].split(",")]
for i2 in (0.0,0.75):
  for p in (0.02,0.98):
    for k in ks:
      t0=time.time(); c,e=run(k,p,i2,reps,7+k,ws)
      print(f"k={k} p={p} i2={i2} edge={e:.2f} "+" ".join(f"{w}:{c[w]:.3f}" for w in ws), f"{time.time()-t0:.0f}s", flush=True)
