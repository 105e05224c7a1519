"""The CDC consumer runtime services import:

    from cdc.consumer import ConsumerRunner, TableMapping, TopicMap, consumer_lifespan

    topic_map = TopicMap("vobe", [TableMapping("public.catalog_track", "tracks")])
    runner = ConsumerRunner(topic_map, "postgresql+psycopg://.../catalog", group_id="catalog-service")
    runner.run()                      # or runner.start_background(), or consumer_lifespan(runner)

Extension points: `event_filter=` (an EventFilter returning a FilteredBatch: events taken out before
apply, still consumed), `applier=` (an Applier for a target that is not mirror tables; `prepare`
is the shared first step of one). "Caught up" per partition: `partitions_behind`;
per-partition progress for status endpoints: `partition_progress`.
"""
from cdc.consumer.apply_change import ChangeApplier
from cdc.consumer.catch_up import PartitionLag, PartitionProgress, partition_progress, partitions_behind
from cdc.consumer.contracts import Applier, ApplyResult, DeadLetterSink, EventFilter, FilteredBatch
from cdc.consumer.envelope import ChangeEvent, PoisonEvent, decode, decode_message
from cdc.consumer.mapping import TableMapping, TopicMap
from cdc.consumer.prepare import Prepared, RowDecoder, prepare
from cdc.consumer.runner import BackgroundConsumer, ConsumerRunner, consumer_config, consumer_lifespan

__all__ = [
    "Applier", "ApplyResult", "BackgroundConsumer", "ChangeApplier", "ChangeEvent", "ConsumerRunner",
    "DeadLetterSink", "EventFilter", "FilteredBatch", "PartitionLag", "PartitionProgress", "PoisonEvent",
    "Prepared", "RowDecoder", "TableMapping", "TopicMap", "consumer_config", "consumer_lifespan", "decode",
    "decode_message", "partition_progress", "partitions_behind", "prepare",
]
