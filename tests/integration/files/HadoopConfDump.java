// Loads Hadoop site files with Hadoop's own org.apache.hadoop.conf.Configuration, one file alone
// (no defaults), and prints what it read, so tests can compare it with hadoop_config's parser.
//
// Usage: java -cp HADOOP_JARS:. HadoopConfDump FILE...
// For each FILE: a line "== FILE", then one line per property, sorted by name:
// ["name", "raw value", final] as JSON (final true/false), every character outside printable
// ASCII written as a backslash-u escape of its UTF-16 unit. A file Hadoop refuses prints
// "!! ExceptionClass: message" instead.

import java.io.File;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.apache.hadoop.conf.Configuration;

public final class HadoopConfDump {
    private HadoopConfDump() {
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
            Configuration conf = new Configuration(false);
            // As a classpath resource is loaded: a URL, read through Woodstox's stream bootstrapper.
            conf.addResource(new File(path).toURI().toURL());
            TreeMap<String, String> values = new TreeMap<>();
            Set<String> finals;
            try {
                // iterator() returns raw values, without ${var} expansion.
                for (Map.Entry<String, String> entry : conf) {
                    values.put(entry.getKey(), entry.getValue());
                }
                finals = conf.getFinalParameters();
            } catch (RuntimeException e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                out.append("!! ").append(cause.getClass().getSimpleName()).append(": ")
                   .append(json(String.valueOf(cause.getMessage()))).append('\n');
                continue;
            }
            TreeMap<String, Boolean> names = new TreeMap<>();
            for (String name : values.keySet()) {
                names.put(name, finals.contains(name));
            }
            for (String name : finals) {
                names.putIfAbsent(name, true);
            }
            for (Map.Entry<String, Boolean> entry : names.entrySet()) {
                String value = values.get(entry.getKey());
                out.append('[').append(json(entry.getKey())).append(", ")
                   .append(value == null ? "null" : json(value)).append(", ")
                   .append(entry.getValue()).append("]\n");
            }
        }
        System.out.print(out);
    }
}
