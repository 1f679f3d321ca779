package dev.podserve;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

import dev.podserve.resilience.SigtermExit;

@SpringBootApplication
@ConfigurationPropertiesScan
public class PodserveApplication {
    public static void main(String[] args) {
        SigtermExit.install();
        SpringApplication.run(PodserveApplication.class, args);
    }
}
