import multiprocessing

CHOICES = {
    "download 200 web pages": "thread",
    "resize 10,000 images in a pure-Python loop": "process",
    "count primes below 10**8 in pure Python": "process",
    "wait for replies from 50 database queries": "thread",
    "a task that must be killable from outside": "process",
    "many small tasks that update one shared in-memory dict": "thread",
}

def run_processes(target, num_processes=None)
    processes = [multiprocessing.Process(target=target) for _ in range(num_processes)]
    return processes
