# The stackdemo app: a Flask page that counts its visitors in Redis.
import os

from flask import Flask
from redis import Redis

app = Flask(__name__)
redis = Redis(host=os.environ.get("REDIS_HOST", "127.0.0.1"),
              port=int(os.environ.get("REDIS_PORT", "6379")))


@app.route("/")
def hello():
    count = redis.incr("hits")
    return "Hello World! I have been seen {} times.\n".format(count)


if __name__ == "__main__":
    app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "8000")))
