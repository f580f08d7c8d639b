// Copyright: datalake.notebooks contributors
// Apache License 2.0 (see LICENSE)
//
// The benchmark's peer: HDFS home directories the way a Hadoop-native tool makes them (Bigtop's
// init-hcfs does this), in one JVM through Hadoop's FileSystem API. List the base once, then for
// each user whose home is missing or wrong: mkdirs, setPermission (FileSystem.mkdirs masks the
// mode with fs.permissions.umask-mode on the client), setOwner. Calls go out from a pool of
// threads sharing the one FileSystem (one RPC connection), as many as the module's workers.
//
// bench/bench.py compiles it against the rig's jars and runs it as the HDFS superuser
// (HADOOP_USER_NAME) with the rig's configuration directory on the classpath:
//   java -cp CLASSES:CONF:JARS HomeDirs BASE MODE THREADS USERS_FILE
// It prints one line of JSON: {"created": N, "fixed": N, "unchanged": N, "calls": N, "seconds": S}
// where "seconds" is the time from just after the JVM started to the end (the caller times the
// whole process as well).

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;

public class HomeDirs {
    public static void main(String[] args) throws Exception {
        long started = System.nanoTime();
        String base = args[0];
        FsPermission mode = new FsPermission(Short.parseShort(args[1], 8));
        int threads = Integer.parseInt(args[2]);
        List<String> users = Files.readAllLines(Paths.get(args[3]), StandardCharsets.UTF_8);

        Configuration conf = new Configuration();
        FileSystem fs = FileSystem.get(conf);
        AtomicInteger calls = new AtomicInteger();
        Map<String, FileStatus> existing = new HashMap<>();
        calls.incrementAndGet();
        for (FileStatus status : fs.listStatus(new Path(base))) {
            existing.put(status.getPath().getName(), status);
        }

        AtomicInteger created = new AtomicInteger();
        AtomicInteger fixed = new AtomicInteger();
        int unchanged = 0;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> pending = new ArrayList<>();
        for (String user : users) {
            if (user.isEmpty()) {
                continue;
            }
            FileStatus status = existing.get(user);
            Path home = new Path(base, user);
            if (status == null) {
                pending.add(pool.submit(() -> {
                    make(fs, home, user, mode, calls);
                    created.incrementAndGet();
                    return null;
                }));
            } else if (!status.getOwner().equals(user) || !status.getPermission().equals(mode)) {
                pending.add(pool.submit(() -> {
                    calls.addAndGet(2);
                    fs.setPermission(home, mode);
                    fs.setOwner(home, user, null);
                    fixed.incrementAndGet();
                    return null;
                }));
            } else {
                unchanged++;
            }
        }
        for (Future<?> future : pending) {
            future.get();
        }
        pool.shutdown();
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf("{\"created\": %d, \"fixed\": %d, \"unchanged\": %d, \"calls\": %d, \"seconds\": %.3f}%n",
                          created.get(), fixed.get(), unchanged, calls.get(), seconds);
    }

    private static void make(FileSystem fs, Path home, String user, FsPermission mode, AtomicInteger calls)
            throws IOException {
        calls.addAndGet(3);
        fs.mkdirs(home, mode);
        fs.setPermission(home, mode);
        fs.setOwner(home, user, null);
    }
}
