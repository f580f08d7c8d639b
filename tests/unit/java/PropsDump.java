// Loads properties files the way Livy loads livy.conf (Properties.load through a UTF-8 reader) and
// prints what Java read, so tests can compare it with the collection's own parser.
//
// Usage: java PropsDump FILE...
// For each FILE: a line "== FILE", then one line per key, sorted: ["key", "value"] as JSON with
// every character outside printable ASCII written as a backslash-u escape of its UTF-16 unit, as
// Java holds it.
// A file Java refuses prints "!! ExceptionClass: message" instead of its keys.

import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.TreeSet;

public final class PropsDump {
    private PropsDump() {
    }

    static String json(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    public static void main(String[] args) throws Exception {
        StringBuilder out = new StringBuilder();
        for (String path : args) {
            out.append("== ").append(path).append('\n');
            Properties props = new Properties();
            try (Reader reader = new InputStreamReader(new FileInputStream(path), StandardCharsets.UTF_8)) {
                props.load(reader);
            } catch (IllegalArgumentException e) {
                out.append("!! ").append(e.getClass().getSimpleName()).append(": ")
                   .append(e.getMessage()).append('\n');
                continue;
            }
            for (String key : new TreeSet<>(props.stringPropertyNames())) {
                out.append('[').append(json(key)).append(", ")
                   .append(json(props.getProperty(key))).append("]\n");
            }
        }
        System.out.print(out);
    }
}
