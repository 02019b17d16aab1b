package dev.gpubroker.payments.chain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gpubroker.config.PrivateFiles;

/**
 * An exclusive lock beside a deployment record ({@code deployment.lock}), held while an instance reads the record,
 * makes the keys and deploys: instances that share a development node start one at a time through that part, so only
 * the first deploys and makes keystores, and the others start with what it recorded.
 */
final class DeploymentLock implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DeploymentLock.class);

    private final FileChannel channel;
    private final FileLock lock;

    private DeploymentLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static DeploymentLock acquire(Path recordFile) {
        Path file = recordFile.resolveSibling("deployment.lock");
        try {
            PrivateFiles.directory(file.getParent());
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock == null) {
                log.info("Waiting for another instance to finish with the deployment record {}", recordFile);
                lock = channel.lock();
            }
            return new DeploymentLock(channel, lock);
        } catch (IOException e) {
            throw new UncheckedIOException("could not lock " + file, e);
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            log.warn("Releasing the deployment lock failed: {}", e.toString());
        }
    }
}
