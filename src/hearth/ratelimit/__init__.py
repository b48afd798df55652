"""Rate limiting: PocketBase's rules (rules.py, actions.py), client IPs (ips.py) and the
counters behind them (counters.py, in memory or in Redis). The HTTP hook is http/rate_limit.py;
the per-identity limit on failed logins is auth/attempts.py."""
