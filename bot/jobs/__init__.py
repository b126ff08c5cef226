"""What runs by itself: the SLA scheduler (:mod:`.scheduler`), the outbox delivery worker
(:mod:`.delivery`), on-call paging (:mod:`.paging`), the leader lease across replicas
(:mod:`.leadership`) and the threads they run their database passes on (:mod:`.tasks`)."""
