package dev.gpubroker.config;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One GPU Broker per data directory: an exclusive lock on {@code <data>/broker.lock}, held for as long as the process
 * runs (the operating system releases it when the process dies, however it dies). Two servers on one data directory
 * would run two anvils on one chain state, two relayers on one nonce counter, and two job supervisors that each take
 * the other's jobs for orphans. The file says who holds it (process id, transport, address once known), so that a
 * second server, a stdio one started by Claude Desktop say, can say in one line which server it would collide with.
 */
public final class DataDirectoryLock implements AutoCloseable {

    public static final String FILE = "broker.lock";
    /**
     * Below this much free space a start is refused. A full disk otherwise surfaces as H2's "The database has been
     * closed" in the middle of a migration (or a half-unpacked anvil), which says nothing about the cause.
     */
    static final long MINIMUM_FREE_BYTES = 64L << 20;
    private static final Map<Path, DataDirectoryLock> HELD = new ConcurrentHashMap<>();

    private final Path dataDir;
    private final FileChannel channel;
    private final FileLock lock;
    private final String transport;
    private final Instant since;

    private DataDirectoryLock(Path dataDir, FileChannel channel, FileLock lock, String transport) {
        this.dataDir = dataDir;
        this.channel = channel;
        this.lock = lock;
        this.transport = transport;
        this.since = Instant.now();
    }

    /**
     * Takes the data directory for this process, or refuses in one sentence that names the process holding it. Held
     * already by this process: the same lock. {@code transport} is {@code http} or {@code stdio}, for that sentence.
     */
    public static synchronized DataDirectoryLock acquire(Path dataDir, String transport) {
        Path dir = dataDir.toAbsolutePath().normalize();
        DataDirectoryLock held = HELD.get(dir);
        if (held != null) {
            return held;
        }
        Path file = dir.resolve(FILE);
        FileChannel channel = null;
        try {
            PrivateFiles.dataDirectory(dir);
            requireFreeSpace(dir, MINIMUM_FREE_BYTES);
            channel = open(file);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException heldInThisJvm) {
                lock = null;
            }
            if (lock == null) {
                channel.close();
                throw new StartupRefusal(inUseMessage(dir, file));
            }
            DataDirectoryLock taken = new DataDirectoryLock(dir, channel, lock, transport);
            taken.describe(null);
            HELD.put(dir, taken);
            return taken;
        } catch (IOException e) {
            closeQuietly(channel);
            throw new StartupRefusal("cannot use the data directory " + dir + " (" + e.getClass().getSimpleName() + ": "
                    + e.getMessage() + "): set GPUBROKER_DATA_DIR to a directory this user may create and write (an "
                    + "absolute path: MCP clients start servers in a working directory of their own)", e);
        }
    }

    /** Refuses in one sentence when the disk under {@code dir} has less than {@code minimumBytes} left for this user. */
    static void requireFreeSpace(Path dir, long minimumBytes) throws IOException {
        long free = Files.getFileStore(dir).getUsableSpace();
        if (free < minimumBytes) {
            throw new StartupRefusal("the data directory " + dir + " has " + (free >> 20) + " MiB free; GPU Broker needs "
                    + "at least " + (minimumBytes >> 20) + " MiB there to start (its database, the chain's state and "
                    + "the embedded chain node): free space on that disk, or set GPUBROKER_DATA_DIR to a directory on "
                    + "another");
        }
    }

    /** The lock this process holds on that data directory, or null. */
    public static DataDirectoryLock heldFor(Path dataDir) {
        return HELD.get(dataDir.toAbsolutePath().normalize());
    }

    public Path dataDir() {
        return dataDir;
    }

    /** Records where this server can be reached (its HTTP base URL), for the message a second server prints. */
    public synchronized void describe(String httpUrl) {
        StringBuilder text = new StringBuilder()
                .append("# The GPU Broker process that holds this data directory (docs/architecture.md, Starting).\n")
                .append("pid=").append(ProcessHandle.current().pid()).append('\n')
                .append("transport=").append(transport).append('\n')
                .append("since=").append(since).append('\n');
        if (httpUrl != null) {
            text.append("url=").append(httpUrl).append('\n');
        }
        try {
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8)), 0);
            channel.force(false);
        } catch (IOException e) {
            // Only the description is lost; the lock itself holds.
        }
    }

    @Override
    public synchronized void close() {
        HELD.remove(dataDir, this);
        try {
            lock.release();
        } catch (IOException ignored) {
            // The channel's close below releases it too.
        }
        closeQuietly(channel);
    }

    private static String inUseMessage(Path dir, Path file) {
        Properties holder = new Properties();
        try (var in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            holder.load(in);
        } catch (IOException unreadable) {
            // Said below without the details.
        }
        String pid = holder.getProperty("pid", "?");
        String transport = holder.getProperty("transport", "?");
        String url = holder.getProperty("url");
        String who = "stdio".equals(transport)
                ? "a GPU Broker serving MCP over stdio (pid " + pid + ")"
                : "the GPU Broker server with pid " + pid + (url != null ? ", serving HTTP at " + url + " (MCP at " + url
                        + "/mcp)" : "");
        String instead = url != null
                ? "connect this client to that server over HTTP (README, Connect Claude)"
                : "stop it, or run one HTTP server and connect every client to it (README, Connect Claude)";
        return "the data directory " + dir + " is in use by " + who + "; two servers on one data directory would run two "
                + "chains on one state: " + instead + ", or give this one its own GPUBROKER_DATA_DIR";
    }

    private static FileChannel open(Path file) throws IOException {
        if (!Files.exists(file) && FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PrivateFiles.FILE));
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                // Another process made it first; the lock decides.
            }
        }
        PrivateFiles.file(file);
        return FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // Closing is all that is left to do.
            }
        }
    }
}
