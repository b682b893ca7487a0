-- Per organisation: whether credentials carry a second Data Integrity proof, `eddsa-jcs-2022`,
-- beside the `eddsa-rdfc-2022` one (a proof set: verifiers that only know JCS can check it).
-- Off by default: the RDFC proof is the one every conformant verifier checks.
ALTER TABLE issuer_settings ADD COLUMN jcs_proof BOOLEAN NOT NULL DEFAULT FALSE;

-- Per organisation: whether credentials also name the learner by a salted SHA-256 of their
-- e-mail address (an OB 3.0 IdentityObject), for issuers whose consumers match on e-mail. Off by
-- default: such a hash can be brute-forced from a list of addresses.
ALTER TABLE issuer_settings ADD COLUMN email_identifier BOOLEAN NOT NULL DEFAULT FALSE;
