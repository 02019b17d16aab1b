package dev.gpubroker.market;

import java.time.Clock;
import java.util.Map;

import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.reactive.TransactionalOperator;

import reactor.core.publisher.Mono;

/**
 * The capacity of the providers whose machines the broker itself counts: the simulated marketplace ({@code
 * market.demo}) and this host's GPUs ({@code market.local}). Each provider package holds and releases units through
 * this service; the table and its repository stay market's. A hold never oversells an offer, and a release happens at
 * most once ({@link DemoCapacityRepository}).
 */
@Service
public class HostedCapacity {

    private final DemoCapacityRepository capacity;

    public HostedCapacity(DatabaseClient db, TransactionalOperator transaction, Clock clock) {
        this.capacity = new DemoCapacityRepository(db, transaction, clock);
    }

    /** Sets each offer's total capacity (units by offer id) from the provider's catalog, keeping the units held. */
    public Mono<Void> seed(String provider, Map<String, Integer> totalUnitsByOffer) {
        return capacity.seed(provider, totalUnitsByOffer);
    }

    /** Units free now, by offer id. */
    public Mono<Map<String, Integer>> freeUnits(String provider) {
        return capacity.freeUnits(provider);
    }

    /** Takes {@code units} of an offer under {@code holdId}; false when fewer are free (nothing is taken then). */
    public Mono<Boolean> hold(String holdId, String provider, String offerId, int units) {
        return capacity.hold(holdId, provider, offerId, units);
    }

    /** Gives a hold's units back; a second release of the same hold does nothing. */
    public Mono<Void> release(String holdId) {
        return capacity.release(holdId);
    }
}
