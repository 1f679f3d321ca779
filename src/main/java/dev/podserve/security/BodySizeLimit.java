package dev.podserve.security;

import org.springframework.boot.http.codec.CodecCustomizer;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.codec.CodecConfigurer;
import org.springframework.stereotype.Component;

import dev.podserve.config.PodserveProperties;

/**
 * {@code podserve.security.limits.max-body-size} as the codecs' buffer limit: a body beyond it is
 * never held in memory whole; decoding stops and the API answers 413. Last among the customizers,
 * so it wins over {@code spring.codec.max-in-memory-size}.
 */
@Component
@Order(Ordered.LOWEST_PRECEDENCE)
class BodySizeLimit implements CodecCustomizer {

    private final int maxBytes;

    BodySizeLimit(PodserveProperties props) {
        this.maxBytes = (int) Math.min(Integer.MAX_VALUE, props.security().limits().maxBodySize().toBytes());
    }

    @Override
    public void customize(CodecConfigurer configurer) {
        configurer.defaultCodecs().maxInMemorySize(maxBytes);
    }
}
