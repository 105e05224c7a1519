"""The CDC consumer runtime services import:

    from cdc.consumer import ConsumerRunner, TableMapping, TopicMap, consumer_lifespan

    topic_map = TopicMap("vobe", [TableMapping("public.catalog_track", "tracks")])
    runner = ConsumerRunner(topic_map, "postgresql+psycopg://.../catalog", group_id="catalog-service")
    runner.run()                      # or runner.start_background(), or consumer_lifespan(runner)
"""
from cdc.consumer.apply_change import ApplyResult, ChangeApplier
from cdc.consumer.envelope import ChangeEvent, PoisonEvent, decode, decode_message
from cdc.consumer.mapping import TableMapping, TopicMap
from cdc.consumer.runner import BackgroundConsumer, ConsumerRunner, consumer_config, consumer_lifespan

__all__ = [
    "ApplyResult", "BackgroundConsumer", "ChangeApplier", "ChangeEvent", "ConsumerRunner", "PoisonEvent",
    "TableMapping", "TopicMap", "consumer_config", "consumer_lifespan", "decode", "decode_message",
]
