package dev.gpubroker.market.shadeform;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Runs a command on a job's VM over SSH with the broker's own key ({@link ShadeformSshKey}) and answers its output:
 * how the broker sees a Shadeform job's container, which Shadeform's API does not show. One SSH session per VM is kept
 * open between polls (a poll is then one exec channel, not a handshake) and closed when the VM is forgotten.
 * <p>
 * The VM's host key is not known in advance (Shadeform's API does not publish it): the first key a VM shows is
 * remembered for that instance id, and a different one later is refused, so a machine that takes over the address
 * mid-job cannot speak for the job. The calls are blocking SSH I/O and run on Reactor's bounded elastic threads.
 */
final class VmShell implements AutoCloseable {

    /** Where a VM is reached: Shadeform's {@code ip}, {@code ssh_port} and {@code ssh_user} of one instance. */
    record Address(String instanceId, String host, int port, String user) {
    }

    /** A command's exit status and its standard output (at most {@code maxBytes} of it). */
    record Answer(int exitStatus, String output) {
    }

    /** Why a command did not run: the VM could not be reached (yet), or it refused the broker. */
    static final class VmShellException extends RuntimeException {

        private final boolean unreachable;

        VmShellException(String message, boolean unreachable, Throwable cause) {
            super(message, cause);
            this.unreachable = unreachable;
        }

        /** True when nothing answered at the address (a VM still booting); false when something refused or failed. */
        boolean unreachable() {
            return unreachable;
        }
    }

    private static final Logger log = LoggerFactory.getLogger(VmShell.class);
    private static final AttributeRepository.AttributeKey<String> INSTANCE = new AttributeRepository.AttributeKey<>();

    private final ShadeformSshKey key;
    private final Duration timeout;
    /** The host key each VM showed first, by instance id; a VM unasked for a day has long been deleted. */
    private final Cache<String, PublicKey> hostKeys = Caffeine.newBuilder().expireAfterAccess(Duration.ofDays(1))
            .maximumSize(100_000).build();
    private final Map<String, ClientSession> sessions = new ConcurrentHashMap<>();
    private volatile SshClient client;

    VmShell(ShadeformSshKey key, Duration timeout) {
        this.key = key;
        this.timeout = timeout;
    }

    /** The key this shell logs in with. */
    ShadeformSshKey key() {
        return key;
    }

    /** Runs {@code command} (given to the login shell of the VM's user) and answers its exit status and output. */
    Mono<Answer> run(Address at, String command, int maxBytes) {
        return Mono.fromCallable(() -> runNow(at, command, maxBytes)).subscribeOn(Schedulers.boundedElastic());
    }

    /** Closes this VM's session and forgets its host key: the instance is gone. */
    void forget(String instanceId) {
        hostKeys.invalidate(instanceId);
        ClientSession session = sessions.remove(instanceId);
        if (session != null) {
            session.close(true);
        }
    }

    private Answer runNow(Address at, String command, int maxBytes) {
        ClientSession session = sessionTo(at);
        BoundedBuffer out = new BoundedBuffer(maxBytes);
        try (ChannelExec exec = session.createExecChannel(command)) {
            exec.setOut(out);
            exec.setErr(OutputStream.nullOutputStream());
            exec.open().verify(timeout);
            Set<ClientChannelEvent> events = exec.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), timeout);
            if (events.contains(ClientChannelEvent.TIMEOUT)) {
                throw new VmShellException("the command on " + at.host() + " did not finish within " + timeout, false, null);
            }
            Integer status = exec.getExitStatus();
            return new Answer(status == null ? -1 : status, out.text());
        } catch (IOException e) {
            // The session broke: open a new one at the next call.
            forgetSession(at.instanceId(), session);
            throw new VmShellException("running a command on " + at.host() + ":" + at.port() + " failed: " + e.getMessage(),
                    false, e);
        }
    }

    private ClientSession sessionTo(Address at) {
        ClientSession open = sessions.get(at.instanceId());
        if (open != null && open.isOpen() && open.isAuthenticated()) {
            return open;
        }
        if (open != null) {
            forgetSession(at.instanceId(), open);
        }
        ClientSession session;
        try {
            session = client().connect(at.user(), at.host(), at.port(), AttributeRepository.ofKeyValuePair(INSTANCE,
                    at.instanceId()), null).verify(timeout).getSession();
        } catch (IOException e) {
            throw new VmShellException("no SSH answer at " + at.host() + ":" + at.port() + " yet: " + e.getMessage(), true, e);
        }
        try {
            session.addPublicKeyIdentity(key.keyPair());
            session.auth().verify(timeout);
        } catch (IOException e) {
            session.close(true);
            throw new VmShellException("the VM at " + at.host() + ":" + at.port() + " did not let the broker's SSH key in as "
                    + at.user() + " (" + e.getMessage() + "); was it created by a broker with another "
                    + ShadeformSshKey.FILE_NAME + "?", false, e);
        }
        ClientSession raced = sessions.putIfAbsent(at.instanceId(), session);
        if (raced != null) {
            session.close(true);
            return raced;
        }
        // A session the VM closes (deleted, rebooted) is forgotten at once, not at the next call for this instance.
        session.addCloseFutureListener(closed -> sessions.remove(at.instanceId(), session));
        return session;
    }

    private void forgetSession(String instanceId, ClientSession session) {
        sessions.remove(instanceId, session);
        session.close(true);
    }

    private SshClient client() {
        SshClient started = client;
        if (started != null) {
            return started;
        }
        synchronized (this) {
            if (client == null) {
                SshClient made = SshClient.setUpDefaultClient();
                made.setServerKeyVerifier(this::trustOnFirstUse);
                made.start();
                client = made;
            }
            return client;
        }
    }

    private boolean trustOnFirstUse(ClientSession session, SocketAddress remote, PublicKey shown) {
        AttributeRepository context = session.getConnectionContext();
        String instanceId = context == null ? null : context.getAttribute(INSTANCE);
        if (instanceId == null) {
            return false;
        }
        PublicKey known = hostKeys.asMap().putIfAbsent(instanceId, shown);
        if (known == null || KeyUtils.compareKeys(known, shown)) {
            return true;
        }
        log.warn("Provider shadeform: the VM of instance {} at {} showed another host key than before ({} instead of {}); "
                + "refused", instanceId, remote, KeyUtils.getFingerPrint(shown), KeyUtils.getFingerPrint(known));
        return false;
    }

    @Override
    public void close() {
        sessions.values().forEach(session -> session.close(true));
        sessions.clear();
        SshClient started = client;
        if (started != null) {
            started.stop();
        }
    }

    /** Keeps the first {@code max} bytes of the output and drops the rest (a job can print without end). */
    private static final class BoundedBuffer extends OutputStream {

        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final int max;

        BoundedBuffer(int max) {
            this.max = max;
        }

        @Override
        public synchronized void write(int b) {
            if (bytes.size() < max) {
                bytes.write(b);
            }
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            int room = Math.max(0, max - bytes.size());
            bytes.write(b, off, Math.min(room, len));
        }

        synchronized String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }
}
