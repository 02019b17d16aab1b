package dev.gpubroker.admin.console;

import static org.springframework.web.reactive.function.server.RequestPredicates.GET;

import java.net.URI;

import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.ClassPathResource;
import org.springframework.core.io.Resource;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;

import dev.gpubroker.web.ProblemWriter;

/**
 * {@code /console} is one page: its routes live in the URL's fragment, so the server answers {@code /console/} with
 * the page and {@code /console/assets/…} with the files Vite built (Spring's static resources), and nothing else.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
class ConsoleRoutes {

    static final String PATH = "/console";
    private static final Resource PAGE = new ClassPathResource("static/console/index.html");

    @Bean
    RouterFunction<ServerResponse> consolePage() {
        return RouterFunctions.route(GET(PATH), request -> ServerResponse.permanentRedirect(URI.create(PATH + "/")).build())
                .andRoute(GET(PATH + "/"), request -> PAGE.exists()
                        ? ServerResponse.ok().contentType(MediaType.TEXT_HTML).bodyValue(PAGE)
                        : ServerResponse.status(HttpStatus.NOT_FOUND).contentType(MediaType.APPLICATION_PROBLEM_JSON)
                                .bodyValue(ProblemWriter.problem(HttpStatus.NOT_FOUND, "console-not-built",
                                        "Console not built", "this build has no console: build the jar with Maven "
                                                + "(it runs Vite on src/main/console)", null)));
    }
}
