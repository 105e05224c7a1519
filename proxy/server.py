"""Start the proxy: `python -m proxy` (settings from PROXY_* environment variables, see settings.py).

A supervisor process and its children: PROXY_WORKERS serving processes sharing one listening
socket, and one shadow worker (proxy/serving/supervisor.py, docs/adr/0005-proxy-serving-processes.md)."""
from proxy.serving.supervisor import main

if __name__ == "__main__":
    main()
