package dev.gpubroker.support;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;
import org.junit.platform.commons.support.HierarchyTraversalMode;
import org.junit.platform.commons.support.ReflectionSupport;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.MapPropertySource;
import org.springframework.test.context.ContextConfigurationAttributes;
import org.springframework.test.context.ContextCustomizer;
import org.springframework.test.context.ContextCustomizerFactories;
import org.springframework.test.context.ContextCustomizerFactory;
import org.springframework.test.context.MergedContextConfiguration;

/**
 * The test's application runs on PostgreSQL instead of the embedded H2: each Spring context gets a new database on the
 * {@link TestPostgres} server as {@code gpubroker.database.url}. Put on a subclass of an H2 test, it runs the same tests
 * on PostgreSQL ({@code class ReserveConcurrencyOnPostgresTest extends ReserveConcurrencyTest}).
 *
 * <p>Without any PostgreSQL here the tests are skipped, saying why; on CI ({@code CI} set) or with
 * {@value TestPostgres#URL_VARIABLE} set they run, and fail when the server cannot be had.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ContextCustomizerFactories(PostgresDatabase.NewDatabase.class)
@ExtendWith(PostgresDatabase.Availability.class)
public @interface PostgresDatabase {

    /**
     * Test methods of the class not run again on PostgreSQL: those that spend their time waiting on something the database
     * plays no part in (each name must be a test method of the class, or the class fails).
     */
    String[] except() default {};

    /** A new database per Spring context, named before the application reads its settings. */
    final class NewDatabase implements ContextCustomizerFactory {

        @Override
        public ContextCustomizer createContextCustomizer(Class<?> testClass,
                List<ContextConfigurationAttributes> configAttributes) {
            return new Customizer();
        }

        /** Equal to every other: contexts of the same configuration are shared, as on H2. */
        private record Customizer() implements ContextCustomizer {

            @Override
            public void customizeContext(ConfigurableApplicationContext context, MergedContextConfiguration merged) {
                String url = TestPostgres.server().newDatabaseUrl();
                context.getEnvironment().getPropertySources().addFirst(new MapPropertySource("test-postgres",
                        Map.of("gpubroker.database.url", url)));
            }
        }
    }

    /**
     * Skips where no PostgreSQL can be had, except on CI and where one is named: there a missing server fails. Skips the
     * methods the class leaves out ({@link #except()}).
     */
    final class Availability implements ExecutionCondition {

        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            Class<?> testClass = context.getRequiredTestClass();
            List<String> except = AnnotationSupport.findAnnotation(testClass, PostgresDatabase.class)
                    .map(annotation -> List.of(annotation.except())).orElse(List.of());
            for (String name : except) {
                if (ReflectionSupport.findMethods(testClass, method -> method.getName().equals(name)
                        && AnnotationSupport.isAnnotated(method, Test.class), HierarchyTraversalMode.TOP_DOWN).isEmpty()) {
                    throw new IllegalStateException(testClass.getSimpleName() + " leaves out '" + name
                            + "' on PostgreSQL, but has no such test");
                }
            }
            if (context.getTestMethod().filter(method -> except.contains(method.getName())).isPresent()) {
                return ConditionEvaluationResult.disabled("left out on PostgreSQL (@PostgresDatabase(except))");
            }
            String ci = System.getenv("CI");
            boolean mustRun = ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false");
            return TestPostgres.whyUnavailable()
                    .filter(reason -> !mustRun)
                    .map(reason -> ConditionEvaluationResult.disabled("not run on PostgreSQL: " + reason))
                    .orElseGet(() -> ConditionEvaluationResult.enabled("PostgreSQL is at hand"));
        }
    }
}
