package dev.gpubroker.admin;

import java.util.Map;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import dev.gpubroker.policy.KillSwitch;
import reactor.core.publisher.Mono;

/** The global kill switch: {"on": true} stops all reserving and paying at once, for every agent. */
@RestController
class AdminKillSwitchController {

    record KillSwitchView(boolean on) {
    }

    private final KillSwitch killSwitch;

    AdminKillSwitchController(KillSwitch killSwitch) {
        this.killSwitch = killSwitch;
    }

    @GetMapping(AdminRoutes.PREFIX + "/kill-switch")
    Mono<KillSwitchView> get() {
        return killSwitch.isOn().map(KillSwitchView::new);
    }

    @PutMapping(AdminRoutes.PREFIX + "/kill-switch")
    Mono<KillSwitchView> put(@RequestBody Map<String, Object> body) {
        if (!(body.get("on") instanceof Boolean on) || body.size() != 1) {
            throw new AdminProblems.InvalidField("on", "the body is {\"on\": true} or {\"on\": false}");
        }
        return killSwitch.set(on).then(get());
    }
}
