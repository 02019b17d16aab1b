package dev.gpubroker.admin;

import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

import dev.gpubroker.metrics.PrometheusScrape;
import reactor.core.publisher.Mono;

/**
 * The operator's metrics for Prometheus to scrape (docs/metrics.md), behind the admin token like every admin route:
 * they say how much money is in escrow and how many agents buy what. The actuator's own Prometheus endpoint is not
 * exposed.
 */
@RestController
class AdminMetricsController {

    private final PrometheusScrape scrape;

    AdminMetricsController(PrometheusScrape scrape) {
        this.scrape = scrape;
    }

    /** Text whatever the Accept header says (OpenMetrics when it asks for that): a scraper never has to be refused. */
    @GetMapping(AdminRoutes.PREFIX + "/metrics")
    Mono<ResponseEntity<String>> metrics(@RequestHeader(value = HttpHeaders.ACCEPT, required = false) String accept) {
        return Mono.fromSupplier(() -> scrape.scrape(accept))
                .map(scraped -> ResponseEntity.ok()
                        .contentType(MediaType.parseMediaType(scraped.contentType()))
                        .body(scraped.body()));
    }
}
