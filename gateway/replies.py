"""Every answer the gateway gives, with its enhanced status code and a sentence a person can act on."""

ACCEPTED_RECIPIENT = "250 2.1.5 Recipient OK"
ACCEPTED = "250 2.0.0 Thanks, your update is received (ref {ref})"
ALREADY_RECEIVED = "250 2.0.0 Thanks, we already have this email (ref {ref}); it is posted once"
REJECT_UNKNOWN_PROJECT = (
    "550 5.1.1 No project uses the address {address}. Check the project's email address and send again."
)
REJECT_NOT_STAFF = (
    "550 5.7.1 {sender} is not on the team for {address}, so this email was not posted."
    " Send it from the address you use for work, or ask the project owner to add you."
)
REJECT_TOO_BIG = (
    "552 5.3.4 This email is bigger than the {megabytes} MB we accept. Send the photos and videos over several emails."
)
TRY_AGAIN_LATER = "451 4.3.0 We could not save your email just now; your mail app will send it again shortly."
