package dev.gpubroker.admin;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.gpubroker.audit.AuditEntry;
import dev.gpubroker.audit.AuditLog;
import reactor.core.publisher.Flux;

/** The audit log, newest first: pass the smallest auditId of a page as {@code before} for the next one. */
@RestController
class AdminAuditController {

    private final AuditLog audit;

    AdminAuditController(AuditLog audit) {
        this.audit = audit;
    }

    @GetMapping(AdminRoutes.PREFIX + "/audit")
    Flux<AuditEntry> page(@RequestParam(required = false) String actor, @RequestParam(defaultValue = "50") int limit,
            @RequestParam(required = false) Long before) {
        Paging.check(limit, 0);
        return audit.page(actor, limit, before == null ? Long.MAX_VALUE : before);
    }
}
