package vobe.cdc;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.debezium.engine.ChangeEvent;

/**
 * Hands a Debezium batch to Python in one call: every record's destination, key and value as UTF-8,
 * each followed by a NUL byte. Per-record calls across JPype cost more than the conversion itself.
 * The engine runs the JSON converter in its byte-array form, so keys and values are copied as the
 * converter wrote them (no String decode and re-encode). A NUL never occurs in the converter's
 * output (control characters are escaped) nor in a topic name, and an empty field stands for null
 * (no JSON document is empty).
 */
public final class RecordBatch {
    private static final Map<String, byte[]> TOPICS = new HashMap<>();

    private RecordBatch() {
    }

    public static byte[] flatten(List<ChangeEvent<byte[], byte[]>> records) {
        int size = records.size();
        byte[][] topics = new byte[size][];
        int total = 0;
        for (int i = 0; i < size; i++) {
            ChangeEvent<byte[], byte[]> record = records.get(i);
            topics[i] = topicBytes(record.destination());
            total += topics[i].length + length(record.key()) + length(record.value()) + 3;
        }
        byte[] out = new byte[total];
        int at = 0;
        for (int i = 0; i < size; i++) {
            ChangeEvent<byte[], byte[]> record = records.get(i);
            at = append(out, at, topics[i]);
            at = append(out, at, record.key());
            at = append(out, at, record.value());
        }
        return out;
    }

    private static synchronized byte[] topicBytes(String topic) {
        return TOPICS.computeIfAbsent(topic, t -> t.getBytes(StandardCharsets.UTF_8));
    }

    private static int length(byte[] field) {
        return field == null ? 0 : field.length;
    }

    private static int append(byte[] out, int at, byte[] field) {
        if (field != null) {
            System.arraycopy(field, 0, out, at, field.length);
            at += field.length;
        }
        out[at] = 0;
        return at + 1;
    }
}
