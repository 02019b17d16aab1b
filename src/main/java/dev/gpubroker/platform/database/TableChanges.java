package dev.gpubroker.platform.database;

import java.util.Collection;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.springframework.stereotype.Component;

/**
 * A counter per table that moves whenever this instance's writes to the table may have become visible: after the
 * statement that wrote it, and again after its transaction's commit or rollback and the connection's release
 * ({@link ChangeTrackingConnections}). A statement the broker cannot place moves every counter. Read caches compare the
 * counters of the tables a read depends on before and after it ({@link ReadThroughCache}); another instance's writes do
 * not move them (its own counters do), so on a shared database only a cache's expiry bounds how late they show.
 */
@Component
public class TableChanges {

    private final ConcurrentHashMap<String, AtomicLong> tables = new ConcurrentHashMap<>();
    private final AtomicLong everything = new AtomicLong();

    /** The tables' counters together; a read's answer is current while this stays the same. */
    public Watch watch(Collection<String> tableNames) {
        return new Watch(tableNames.stream().map(this::counter).toArray(AtomicLong[]::new), everything);
    }

    void changed(Collection<String> tableNames) {
        for (String table : tableNames) {
            counter(table).incrementAndGet();
        }
    }

    void changedEverything() {
        everything.incrementAndGet();
    }

    private AtomicLong counter(String table) {
        return tables.computeIfAbsent(table.toLowerCase(Locale.ROOT), name -> new AtomicLong());
    }

    /** The counters of some tables; {@link #stamp()} sums them, so any write to any of them gives a new stamp. */
    public static final class Watch {

        private final AtomicLong[] counters;
        private final AtomicLong everything;

        private Watch(AtomicLong[] counters, AtomicLong everything) {
            this.counters = counters;
            this.everything = everything;
        }

        public long stamp() {
            long stamp = everything.get();
            for (AtomicLong counter : counters) {
                stamp += counter.get();
            }
            return stamp;
        }
    }
}
