"""A Cloudflare Origin CA certificate for the proxied hostnames.

With the records proxied and SSL set to Full (strict), Cloudflare connects to the server over
TLS and checks its certificate. Let's Encrypt's HTTP-01 challenge cannot be answered through
the proxy (the edge redirects it to HTTPS and refuses the origin's missing certificate), so
the proxied hostnames get a certificate from Cloudflare's Origin CA instead: trusted by
Cloudflare, valid 15 years, issued through the API before the server exists. Browsers never
see it. The DNS-only dashboard keeps Let's Encrypt, which works because it is not proxied.
"""

from __future__ import annotations

import pulumi
import pulumi_cloudflare as cloudflare
import pulumi_tls as tls

VALIDITY_DAYS = 5475  # the longest the Origin CA issues (15 years)


class OriginCertificate(pulumi.ComponentResource):
    certificate_pem: pulumi.Output[str]
    private_key_pem: pulumi.Output[str]  # secret

    def __init__(
        self, name: str, *, hostnames: list[str], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("platform:index:OriginCertificate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        key = tls.PrivateKey(f"{name}-key", algorithm="ECDSA", ecdsa_curve="P256", opts=child)
        request = tls.CertRequest(
            f"{name}-request",
            private_key_pem=key.private_key_pem,
            dns_names=hostnames,
            subject=tls.CertRequestSubjectArgs(common_name=hostnames[0]),
            opts=child,
        )
        certificate = cloudflare.OriginCaCertificate(
            f"{name}-certificate",
            csr=request.cert_request_pem,
            hostnames=hostnames,
            request_type="origin-ecc",
            requested_validity=VALIDITY_DAYS,
            opts=child,
        )
        self.certificate_pem = certificate.certificate
        self.private_key_pem = key.private_key_pem
        self.register_outputs({"certificatePem": self.certificate_pem})
