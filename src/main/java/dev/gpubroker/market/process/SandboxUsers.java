package dev.gpubroker.market.process;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * The unprivileged user ids jobs run as when the broker runs as root: one per running job, from a block of
 * {@link #COUNT} ids starting at a configured first id, that no account on the host should use. An id is free when no
 * job of this broker holds it and no process on the host runs as it (a job launched before a restart, not yet taken
 * back, still does). Jobs never share an id, so that nothing the kernel counts per user (processes, inotify watches,
 * keyrings) is shared between two agents' jobs either.
 */
final class SandboxUsers {

    /** How many jobs can run at once in sandboxes as their own users. */
    static final int COUNT = 65_536;

    // The ids are the host's, not one sandbox's: every sandbox of this JVM with the same block shares one.
    private static final java.util.Map<Long, SandboxUsers> BLOCKS = new java.util.concurrent.ConcurrentHashMap<>();

    private final long first;
    private final Set<Long> held = new HashSet<>();

    static SandboxUsers startingAt(long first) {
        return BLOCKS.computeIfAbsent(first, SandboxUsers::new);
    }

    private SandboxUsers(long first) {
        if (first < 1000 || first + COUNT > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("the first sandbox user id must be at least 1000 and leave " + COUNT
                    + " ids below 2^31: " + first);
        }
        this.first = first;
    }

    long first() {
        return first;
    }

    /** A free id, now held by the caller until {@link #release}. */
    synchronized long take() {
        Set<Long> running = userIdsOfRunningProcesses();
        for (long uid = first; uid < first + COUNT; uid++) {
            if (!held.contains(uid) && !running.contains(uid)) {
                held.add(uid);
                return uid;
            }
        }
        throw new IllegalStateException("all " + COUNT + " sandbox user ids from " + first + " are in use");
    }

    /** Holds an id a job taken back after a restart already runs as. */
    synchronized void hold(long uid) {
        held.add(uid);
    }

    synchronized void release(long uid) {
        held.remove(uid);
    }

    synchronized boolean isHeld(long uid) {
        return held.contains(uid);
    }

    /** The real user ids of this host's processes that fall in the block (read from /proc, bounded by the pid limit). */
    private Set<Long> userIdsOfRunningProcesses() {
        Set<Long> found = new HashSet<>();
        try (DirectoryStream<Path> processes = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path process : processes) {
                realUserId(process).filter(uid -> uid >= first && uid < first + COUNT).ifPresent(found::add);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot list this host's processes in /proc", e);
        }
        return found;
    }

    private static java.util.Optional<Long> realUserId(Path process) {
        try (var lines = Files.lines(process.resolve("status"))) {
            return lines.filter(line -> line.startsWith("Uid:")).findFirst()
                    .map(line -> Long.parseLong(line.substring(4).strip().split("\\s+")[0]));
        } catch (IOException | java.io.UncheckedIOException | NumberFormatException e) {
            // The process ended meanwhile: it runs as nobody now.
            return java.util.Optional.empty();
        }
    }
}
