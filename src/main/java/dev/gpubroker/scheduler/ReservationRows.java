package dev.gpubroker.scheduler;

import dev.gpubroker.money.Usdc;
import dev.gpubroker.platform.database.Columns;
import io.r2dbc.spi.Readable;

/**
 * A reservation as a row of {@code reservations} holds it: for this package's repository, and for read models elsewhere
 * that select the table's columns together with their own in one statement ({@code payments.AccountReads}).
 */
public final class ReservationRows {

    private ReservationRows() {
    }

    public static Reservation read(Readable row) {
        return new Reservation(
                row.get("reservation_id", String.class),
                row.get("agent_id", String.class),
                row.get("idempotency_key", String.class),
                row.get("quote_id", String.class),
                ReservationState.valueOf(row.get("state", String.class)),
                row.get("provider", String.class),
                row.get("offer_id", String.class),
                Columns.intValue(row, "gpu_count"),
                Usdc.ofMicros(Columns.longValue(row, "amount_micros")),
                Columns.instant(row, "created_at"),
                Columns.instant(row, "updated_at"),
                Columns.instant(row, "hold_expires_at"),
                Boolean.TRUE.equals(row.get("capacity_released", Boolean.class)),
                row.get("state_reason", String.class),
                Columns.intValue(row, "duration_minutes"),
                row.get("payment_id", String.class),
                row.get("hold_id", String.class),
                Boolean.TRUE.equals(row.get("cancel_requested", Boolean.class)));
    }
}
