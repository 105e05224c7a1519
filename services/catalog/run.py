"""The catalog service with its sync workers as one supervised unit (services/common/carve/run.py):

    python -m services.catalog.run --port 8101 [--workers 2] [--no-cdc] [--no-reverse]
"""
from services.common.carve.run import main

if __name__ == "__main__":
    main("services.catalog.domain", "services.catalog.main:app", default_port=8101)
