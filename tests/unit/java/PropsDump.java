// Reads configuration files the way the programs the collection configures read them, and prints
// what was read, so tests can compare it with the collection's own parsers:
//   properties  as Livy loads livy.conf: java.util.Properties.load through a UTF-8 reader;
//   hadoop      as Hadoop loads a site file: org.apache.hadoop.conf.Configuration, the file alone
//               (no defaults). Needs Hadoop's jars on the classpath when run, not when compiled.
//
// Usage: java -cp CLASSES[:HADOOP_JARS] PropsDump properties|hadoop FILE...
// For each FILE: a line "== FILE", then one line per key, sorted, as JSON with every character
// outside printable ASCII written as a backslash-u escape of its UTF-16 unit (as Java holds it):
// ["key", "value"] in properties mode, ["name", "raw value" or null, final] in hadoop mode.
// A file the reader refuses prints "!! ExceptionClass: message" instead of its keys.

import java.io.File;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
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

    static void refused(StringBuilder out, Throwable error) {
        out.append("!! ").append(error.getClass().getSimpleName()).append(": ")
           .append(json(String.valueOf(error.getMessage()))).append('\n');
    }

    static void properties(String path, StringBuilder out) throws Exception {
        Properties props = new Properties();
        try (Reader reader = new InputStreamReader(new FileInputStream(path), StandardCharsets.UTF_8)) {
            props.load(reader);
        } catch (IllegalArgumentException e) {
            refused(out, e);
            return;
        }
        for (String key : new TreeSet<>(props.stringPropertyNames())) {
            out.append('[').append(json(key)).append(", ")
               .append(json(props.getProperty(key))).append("]\n");
        }
    }

    static void hadoop(String path, StringBuilder out) throws Exception {
        // Through reflection, so that the properties mode compiles and runs without Hadoop's jars.
        Class<?> type = Class.forName("org.apache.hadoop.conf.Configuration");
        Object conf = type.getConstructor(boolean.class).newInstance(false);
        // As a classpath resource is loaded: a URL, read through Woodstox's stream bootstrapper.
        type.getMethod("addResource", URL.class).invoke(conf, new File(path).toURI().toURL());
        TreeMap<String, String> values = new TreeMap<>();
        Set<?> finals;
        try {
            // The iterator loads the file and returns raw values, without ${var} expansion.
            for (Object item : (Iterable<?>) conf) {
                Map.Entry<?, ?> entry = (Map.Entry<?, ?>) item;
                values.put((String) entry.getKey(), (String) entry.getValue());
            }
            finals = (Set<?>) type.getMethod("getFinalParameters").invoke(conf);
        } catch (RuntimeException | InvocationTargetException e) {
            Throwable cause = e instanceof InvocationTargetException ? e.getCause() : e;
            refused(out, cause.getCause() != null ? cause.getCause() : cause);
            return;
        }
        TreeMap<String, Boolean> names = new TreeMap<>();
        for (String name : values.keySet()) {
            names.put(name, finals.contains(name));
        }
        for (Object name : finals) {
            names.putIfAbsent((String) name, true);
        }
        for (Map.Entry<String, Boolean> entry : names.entrySet()) {
            String value = values.get(entry.getKey());
            out.append('[').append(json(entry.getKey())).append(", ")
               .append(value == null ? "null" : json(value)).append(", ")
               .append(entry.getValue()).append("]\n");
        }
    }

    public static void main(String[] args) throws Exception {
        StringBuilder out = new StringBuilder();
        for (int i = 1; i < args.length; i++) {
            out.append("== ").append(args[i]).append('\n');
            if ("hadoop".equals(args[0])) {
                hadoop(args[i], out);
            } else if ("properties".equals(args[0])) {
                properties(args[i], out);
            } else {
                throw new IllegalArgumentException("mode must be properties or hadoop, not " + args[0]);
            }
        }
        System.out.print(out);
    }
}
