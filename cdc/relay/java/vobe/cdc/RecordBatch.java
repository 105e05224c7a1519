package vobe.cdc;

import java.nio.charset.StandardCharsets;
import java.util.List;

import io.debezium.engine.ChangeEvent;

/**
 * Hands a Debezium batch to Python in one call: every record's destination, key and value as UTF-8,
 * each followed by a NUL byte. Per-record calls across JPype cost more than the conversion itself.
 * A NUL never occurs in the JSON converter's output (control characters are escaped) nor in a topic
 * name, and an empty field stands for null (no JSON document is empty).
 */
public final class RecordBatch {
    private RecordBatch() {
    }

    public static byte[] flatten(List<ChangeEvent<String, String>> records) {
        StringBuilder out = new StringBuilder(records.size() * 512);
        for (ChangeEvent<String, String> record : records) {
            append(out, record.destination());
            append(out, record.key());
            append(out, record.value());
        }
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void append(StringBuilder out, String field) {
        if (field != null) {
            out.append(field);
        }
        out.append('\0');
    }
}
